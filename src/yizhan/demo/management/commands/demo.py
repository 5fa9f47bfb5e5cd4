"""``manage.py demo``: load the demo street (demo mode only), then print the demo accounts."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from yizhan.core.errors import ApplicationError
from yizhan.demo.accounts import accounts_table
from yizhan.demo.loader import DemoState, demo_counts, demo_state, load_demo

SUMMARY = (
    "{districts} 个区 district · {streets} 个街道 streets · {communities} 个社区 communities · "
    "{grids} 个网格 grids\n"
    "{riders_verified} 名已核实的小哥 verified riders · {riders_pending} 名待审核 pending · "
    "{riders_rejected} 名被退回 rejected\n"
    "{posts} 个岗位 posts · {claims_approved} 个已批准的认领 approved claims · "
    "{claims_pending} 个待审批 pending claims · {teams} 支服务队 teams\n"
    "{accounts} 个工作人员等账号 staff and other accounts · {departments} 个职能部门 department"
)


class Command(BaseCommand):
    help = (
        "Load the demo street 大同市平城区清远街道 (areas, staff, riders, posts, teams) and print "
        "the demo accounts. Needs demo mode (YIZHAN_DEMO=1). Running it again changes nothing."
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
        self.stdout.write("")
        self.stdout.write(f"演示账号 Demo accounts\n{accounts_table()}")
