"""The demo street's organisation pipeline, written through the services (idempotent).

``load_organisation_demo()`` expects the demo street to be loaded (``yizhan.demo``): it turns the
module on for 清远街道 as its admin, creates 清远街道小哥党支部 (at the street) with the showcase
community staff member (清远西街社区, 张慧敏) on its staff, and records eight of the street's
verified riders at every stage, dated over the past years. Running it again changes nothing.

The names of the demo accounts are written here rather than imported from ``yizhan.demo``, which
sits above this app (``docs/architecture.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from yizhan.areas.models import Area
from yizhan.organisation import services
from yizhan.organisation.choices import STAGE_ORDER, Stage
from yizhan.organisation.models import Branch, BranchStaff, PipelineRecord
from yizhan.people.choices import RegistrationStatus
from yizhan.people.models import RiderProfile, User

STREET_CODE = "140213055"  # 清远街道
ADMIN_USERNAME = "qingyuan-admin"  # 王丽娟, the street's admin
STAFF_USERNAME = "qingyuanxijie-staff"  # 张慧敏, 清远西街社区 (a showcase account)
BRANCH_NAME = "清远街道小哥党支部"


@dataclass(frozen=True)
class Plan:
    """One person's way so far: days before the load day for each stage reached, then how the
    record ends (``close`` = days before and the reason)."""

    days: tuple[int, ...]
    note: str = ""
    close: tuple[int, str] | None = None


PLANS = [
    Plan((40,), "递交入党申请书"),
    Plan((200,), "递交入党申请书，支部已谈话"),
    Plan((420, 300), "经党员推荐确定为积极分子"),
    Plan((520, 390), "参加街道积极分子培训班"),
    Plan((900, 780, 330), "支委会确定为发展对象"),
    Plan((1250, 1100, 720, 200), "支部大会讨论通过，预备期一年"),
    Plan((1750, 1600, 1150, 730, 320), "预备期满，按期转正"),
    Plan((610, 480), "", close=(100, "本人申请撤回")),
]


@transaction.atomic
def load_organisation_demo(*, today: date | None = None) -> dict:
    """Write the demo pipeline of 清远街道; what exists already is left as it is."""
    today = today or timezone.localdate()
    street = Area.objects.get(code=STREET_CODE)
    admin = User.objects.get(username=ADMIN_USERNAME)
    staff = User.objects.get(username=STAFF_USERNAME)
    services.organisation_set(street=street, enabled=True, actor=admin)
    branch = Branch.objects.filter(street=street, name=BRANCH_NAME).first()
    if branch is None:
        branch = services.branch_create(area=street, name=BRANCH_NAME, actor=admin)
    if not BranchStaff.objects.filter(branch=branch, user=staff).exists():
        services.branch_staff_add(branch=branch, user=staff, actor=admin)
    riders = list(
        RiderProfile.objects.filter(
            area_code__startswith=street.code, status=RegistrationStatus.VERIFIED
        ).order_by("pk")[: len(PLANS)]
    )
    made = 0
    for rider, plan in zip(riders, PLANS, strict=False):
        if PipelineRecord.objects.filter(rider=rider).exists():
            continue
        _play(branch, rider, plan, staff, today)
        made += 1
    return {"branch": branch, "records": made}


def _play(branch: Branch, rider: RiderProfile, plan: Plan, staff: User, today: date) -> None:
    def day(before: int) -> date:
        return today - timedelta(days=before)

    record = services.record_open(
        branch=branch, rider=rider, applied_on=day(plan.days[0]), actor=staff, note=plan.note
    )
    for stage, before in zip(STAGE_ORDER[1:], plan.days[1:], strict=False):
        record = services.record_advance(
            record=record, stage=Stage(stage), on=day(before), actor=staff
        )
    if plan.close is not None:
        before, reason = plan.close
        services.record_close(record=record, reason=reason, on=day(before), actor=staff)
