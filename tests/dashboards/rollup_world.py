"""Facts for the rollup tests, written straight to the tables with chosen times.

The dashboards read facts whatever wrote them, and their definitions are about dates (submitted
on ``created_at``, closed on ``closed_at`` …), which the services set to "now". So these
builders write the rows the services write (same columns, same area codes) with the dates a
test needs, and, where a service would, an audit entry (``touch``) so the refresh job sees the
change. ``tests/world.py`` provides the area tree, riders and staff.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from yizhan.areas.models import Area
from yizhan.core.audit import log_action
from yizhan.points.models import Entry, PointsAccount, Posting
from yizhan.reports.models import Category, Report
from yizhan.stations.models import Station, Visit

_seq = itertools.count(1)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """An aware datetime on a local (Asia/Shanghai) day."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def touch(obj: Any, area_code: str = "") -> None:
    """The audit entry a service would write for a change of ``obj``."""
    log_action(actor=None, action="test.changed", target=obj, area_code=area_code)


def category(street: Area, code: str, name: str) -> Category:
    return Category.objects.create(
        street=street, area_code=street.code, code=code, name=name, family="other"
    )


def report(
    grid: Area,
    cat: Category,
    created: dt.datetime,
    *,
    status: str = "submitted",
    closed: dt.datetime | None = None,
    deadline: dt.datetime | None = None,
    lat: float = 40.095,
    lng: float = 113.305,
) -> Report:
    r = Report.objects.create(
        source="app",
        category=cat,
        status=status,
        lat=lat,
        lng=lng,
        fine_cell=0,
        input_crs="wgs84",
        community=grid.parent,
        grid=grid,
        area_code=grid.code,
        description="test",
        deadline_at=deadline,
        closed_at=closed,
    )
    Report.objects.filter(pk=r.pk).update(created_at=created)
    r.refresh_from_db()
    touch(r)
    return r


def system(street: Area, kind: str) -> PointsAccount:
    account, _ = PointsAccount.objects.get_or_create(street=street, kind=kind, balance=None)
    return account


def member(user) -> PointsAccount:
    account, _ = PointsAccount.objects.get_or_create(
        owner=user, defaults={"kind": "member", "balance": 0}
    )
    return account


def posting(
    kind: str,
    amount: int,
    user,
    area_code: str,
    street: Area,
    when: dt.datetime,
    *,
    reverses: Posting | None = None,
) -> Posting:
    """A balanced posting (two entries) on ``user``'s member account."""
    m = member(user)
    legs = {
        "award": (system(street, "issuance"), m),
        "hold": (m, system(street, "hold")),
        "settle": (system(street, "hold"), system(street, "redemption")),
        "release": (system(street, "hold"), m),
        "expiry": (m, system(street, "expiry")),
    }
    if kind == "reversal":
        debit, credit = reverses.credit, reverses.debit
    else:
        debit, credit = legs[kind]
    p = Posting.objects.create(
        kind=kind,
        amount=amount,
        debit=debit,
        credit=credit,
        member=m,
        street=street,
        area_code=area_code,
        reason="test",
        idempotency_key=f"test-{next(_seq)}",
        created_at=when,
        reverses=reverses,
    )
    Entry.objects.create(posting=p, account=debit, amount=-amount, created_at=when)
    Entry.objects.create(posting=p, account=credit, amount=amount, created_at=when)
    return p


def station(
    grid: Area, *, kind: str = "rider_station", status: str = "open", name: str = ""
) -> Station:
    n = next(_seq)
    s = Station.objects.create(
        ref=f"T{n}",
        name=name or f"站{n}",
        kind=kind,
        community=grid.parent if grid.level == "grid" else grid,
        grid=grid if grid.level == "grid" else None,
        area_code=grid.code,
        lat=40.095,
        lng=113.305,
        status=status,
    )
    touch(s)
    return s


def visit(s: Station, day: dt.date, people: int = 1) -> Visit:
    return Visit.objects.create(
        station=s, area_code=s.area_code, kind="walk_in", people=people, day=day
    )
