"""Spreadsheets for the import tests, built as real files (openpyxl, csv), and DB snapshots."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from django.utils import timezone
from openpyxl import Workbook

from yizhan.core.models import AuditEntry
from yizhan.stations import services as s
from yizhan.stations.exchange import COLUMNS
from yizhan.stations.models import Station

HEADER = [c.header for c in COLUMNS]
KEYS = [c.key for c in COLUMNS]
#: Everything about a station that the import and export carry (not its pk or timestamps).
FIELDS = [
    "ref", "name", "kind", "community_id", "grid_id", "area_code", "address", "lat", "lng",
    "cell", "status", "host_name", "contact_name", "contact_phone", "description",
    "services_mask", "zones", "hours",
]  # fmt: skip


def row(community: str = "440000001001", **values: Any) -> list[Any]:
    """A good row in community A1 (west grid) with every column; ``values`` override."""
    base = {
        "ref": "",
        "name": "甲一新驿站",
        "kind": "小哥驿站",
        "community": community,
        "address": "甲一路 9 号",
        "lat": 40.095,
        "lng": 113.305,
        "crs": "",
        "services": "休息、饮水",
        "hours": "每天 08:00-22:00",
        "exceptions": "",
        "zones": "休息",
        "host_name": "甲一社区",
        "contact_name": "张三",
        "contact_phone": "0352-1234567",
        "description": "",
        "status": "开放",
    }
    base.update(values)
    return [base[k] for k in KEYS]


def xlsx(rows: list[list[Any]], header: list[Any] | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER if header is None else header)
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_file(
    rows: list[list[Any]], header: list[Any] | None = None, *, encoding: str = "utf-8-sig"
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER if header is None else header)
    for values in rows:
        writer.writerow(["" if v is None else v for v in values])
    return buffer.getvalue().encode(encoding)


def stations() -> list[tuple]:
    return sorted(Station.objects.values_list(*FIELDS))


def snapshot() -> tuple:
    """The registry and the audit log: a refused import changes neither."""
    return stations(), AuditEntry.objects.count()


def registry(world) -> dict[str, Station]:
    """Three stations with references, one of each shape the columns can carry.

    A1-001: a rider station with services, weekday and weekend hours, a dated exception, zones,
    contact and description, suspended; A1-002: a caring corner open 24 hours with a name that
    Excel would take for a formula; A2-001: a union station in A2 without hours.
    """
    staff = world.community_staff
    first = s.station_create(
        ref="A1-001", name="甲一小哥驿站", kind="rider_station", community=world.community_a1,
        lat=40.0951234, lng=113.3052345, actor=staff, address="甲一路 1 号",
        services=["rest", "water", "phone_charging", "ebike_charging"],
        hours="周一至周五 08:00-20:00；周六、周日 09:00-12:00,14:00-18:00",
        zones=["party", "rest", "supply"], host_name="甲一社区党委", contact_name="李四",
        contact_phone="0352-7654321", description="休息、饮水、充电", status="suspended",
    )  # fmt: skip
    first = s.station_exception_set(
        station=first, day=timezone.localdate() + timedelta(days=10), actor=staff, closed=True
    )
    first = s.station_exception_set(
        station=first, day=timezone.localdate() + timedelta(days=11), actor=staff,
        periods="10:00-16:00",
    )  # fmt: skip
    corner = s.station_create(
        ref="A1-002", name="=小店爱心角", kind="corner", community=world.community_a1,
        lat=40.096, lng=113.315, actor=staff, merchant=world.merchant, host_name="小店",
        services=["water", "tyre_inflation"], hours="24小时", contact_phone="+86 13812341234",
    )  # fmt: skip
    other = s.station_create(
        ref="A2-001", name="甲二工会驿站", kind="union_station", community=world.community_a2,
        lat=40.095, lng=113.33, actor=world.other_community_staff,
    )  # fmt: skip
    return {"first": first, "corner": corner, "other": other}
