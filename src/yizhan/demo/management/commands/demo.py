"""``manage.py demo``: load the demo street (demo mode only), then print the demo accounts."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from yizhan.core.errors import ApplicationError
from yizhan.demo.accounts import accounts_table
from yizhan.demo.loader import DemoState, demo_counts, demo_leader, demo_state, load_demo
from yizhan.demo.points_plan import WINDOW_NAME, WINDOW_TOP_N

SUMMARY = (
    "{districts} 个区 district · {streets} 个街道 streets · {communities} 个社区 communities · "
    "{grids} 个网格 grids\n"
    "{riders_verified} 名已核实的小哥 verified riders · {riders_pending} 名待审核 pending · "
    "{riders_rejected} 名被退回 rejected\n"
    "{posts} 个岗位 posts · {claims_approved} 个已批准的认领 approved claims · "
    "{claims_pending} 个待审批 pending claims · {teams} 支服务队 teams\n"
    "{accounts} 个工作人员等账号 staff and other accounts · {departments} 个职能部门 departments\n"
    "{stations} 个驿站 stations · {corners} 个爱心角 caring corners（示范街 {corners_on_street} 家 "
    "on the demonstration street, {corners_suspended} 家暂停服务 suspended）· "
    "{checklist_items} 项“6+6”标准 checklist items · {inspections} 次检查 inspections\n"
    "{check_ins} 次扫码签到 check-ins · {walk_ins} 次到访登记 walk-in records · "
    "共服务 {people_served} 人次 people served\n"
    "{earning_rules} 条积分规则 earning rules · {riders_with_points} 名小哥有积分 riders with "
    "points · {postings} 笔积分流水 postings · "
    "共奖励 {points_awarded} 分 points awarded · {awards_pending} 笔大额奖励待审批 "
    "large award awaiting approval\n"
    "积分超市 points shop: {rewards} 种奖品 rewards · {stock_available} 件可兑换 items in stock · "
    "{windows} 个优先兑换窗口 priority window · 兑换 redemptions: "
    "{redemptions_fulfilled} 已领取 picked up, {redemptions_held} 待领取 awaiting pickup, "
    "{redemptions_cancelled} 已取消 cancelled\n"
    "随手拍 reports: {reports} 条 · {reports_open} 条在办 open（{reports_overdue} 条超期 overdue, "
    "{reports_escalated} 条已督办 escalated）· {reports_closed} 条已结案 closed · "
    "{reports_rejected} 条不予受理 rejected · {reports_merged} 条合并 merged · "
    "{witnesses} 位见证人 witnesses · {report_photos} 张照片 photos\n"
    "{report_categories} 个随手拍分类 report categories · 随手拍共奖励 {report_points} 分 points "
    "paid for verified reports · 工作日历 {holidays} 天节假日和调休 holiday entries (2026–2027)\n"
    "活动 events: {events_held} 场已举办 held, {events_upcoming} 场可报名 upcoming · "
    "{signups} 人次报名 sign-ups（{attended} 人次签到 attended, {signups_waiting} 候补 waiting, "
    "{signups_cancelled} 取消 cancelled）· {handouts} 次福利发放 hand-out: {handout_receipts} "
    "人领取 {handout_items} 件 items\n"
    "值勤记录 duty logs: {duties} 条（{duties_verified} 已核实 verified, {duties_pending} 待核实 "
    "pending, {duties_rejected} 退回 rejected）· 帮助一老一小 {helped} 人次 elderly people and "
    "children helped\n"
    "微心愿 micro-wishes: {wishes} 个（{wishes_published} 待认领 published, "
    "{wishes_claimed} 已认领 claimed, {wishes_fulfilled} 待确认 fulfilled, "
    "{wishes_confirmed} 已实现 confirmed, "
    "{wishes_pending} 待审核 pending）\n"
    "诉求直通车 appeals: {appeals} 件（{appeals_closed} 已办结 closed, {appeals_routed} 办理中 "
    "routed, {appeals_overdue} 超期 overdue）· {deliveries} 次“四送” deliveries · {meetings} 次"
    "联席会议 joint meeting: {decisions_done} 项决定已完成 decisions done, {decisions_open} 项在办 "
    "open\n"
    "荣誉 honours: {titles} 个称号 titles · {honours} 名清远骑士等 riders honoured · "
    "{nominations_pending} 个提名待审批 nominations pending"
)
LEADER = (
    "清远街道今年积分第一：{name}，{points} 分；前 {top_n} 名可参加「{window}」。\n"
    "Top of 清远街道 this year: {name} with {points} points; the top {top_n} may redeem first "
    "({window})."
)


class Command(BaseCommand):
    help = (
        "Load the demo street 大同市平城区清远街道 (areas, staff, riders, posts, teams, stations "
        "and caring corners with their visits and inspections, points and the points shop, "
        "随手拍 reports with their departments and the working calendar, events and hand-outs, "
        "duty logs, micro-wishes, appeals and a joint meeting, the 清远骑士) and "
        "print the demo accounts. Needs demo mode "
        "(YIZHAN_DEMO=1). Running it again changes nothing."
    )

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError(
                "演示数据带有公开的演示密码，只能在演示模式下载入："
                "请设置 YIZHAN_DEMO=1（make demo 会设置）。\n"
                "The demo has public demo passwords and is loaded only in demo mode: "
                "set YIZHAN_DEMO=1 (make demo does)."
            )
        state = demo_state()
        if state == DemoState.CONFLICT:
            raise CommandError(
                "数据库里已有平城区（140213）的部分数据，但不是完整的演示数据；请换一个空数据库"
                "（make clean）。\nThe database holds part of the demo's area 140213 or its "
                "accounts, but not the whole demo: use a fresh database (make clean)."
            )
        if state == DemoState.LOADED:
            self.stdout.write(
                "演示数据已载入，未做改动。The demo is already loaded; nothing changed."
            )
        else:
            try:
                load_demo()
            except ApplicationError as exc:
                raise CommandError(
                    f"载入演示数据失败，什么也没写入。\n"
                    f"Loading the demo failed; nothing was written: {exc.message}"
                ) from exc
            self.stdout.write(self.style.SUCCESS("演示数据已载入。The demo is loaded."))
        self.stdout.write(SUMMARY.format(**demo_counts()))
        leader = demo_leader()
        if leader is not None:
            self.stdout.write(
                LEADER.format(
                    name=leader.member.owner.name,
                    points=leader.points,
                    top_n=WINDOW_TOP_N,
                    window=WINDOW_NAME,
                )
            )
        self.stdout.write("")
        self.stdout.write(f"演示账号 Demo accounts\n{accounts_table()}")
