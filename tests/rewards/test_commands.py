"""``manage.py expire_redemptions``: releases what was not picked up in time, once."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone, translation

from yizhan.points.selectors import balance_of
from yizhan.points.services import points_reconcile
from yizhan.rewards.choices import RedemptionStatus
from yizhan.rewards.models import Redemption, Stock
from yizhan.rewards.services import redemption_reserve


def run() -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("expire_redemptions", stdout=out)
    return out.getvalue()


def reserve(shop, key):
    return redemption_reserve(
        user=shop.rider.user, reward=shop.reward, station=shop.station, idempotency_key=key
    )


def stock(shop):
    row = Stock.objects.get(reward=shop.reward, station=shop.station)
    return (row.available, row.held, row.handed_out)


def test_nothing_to_release(db):
    assert run().strip() == "0 overdue reservations released."


def test_overdue_reservations_are_released_once_and_the_others_kept(shop):
    late = reserve(shop, "cmd-late-0001")
    fresh = reserve(shop, "cmd-fresh-001")
    assert balance_of(shop.rider.user) == 0 and stock(shop) == (1, 2, 0)
    Redemption.objects.filter(pk=late.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert run().strip() == "1 overdue reservation released."
    late.refresh_from_db()
    fresh.refresh_from_db()
    assert late.status == RedemptionStatus.EXPIRED and late.closing is not None
    assert fresh.status == RedemptionStatus.HELD
    assert balance_of(shop.rider.user) == 10 and stock(shop) == (2, 1, 0)
    assert run().strip() == "0 overdue reservations released."
    assert balance_of(shop.rider.user) == 10
    assert points_reconcile().ok
