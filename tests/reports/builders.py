"""Givens for the reports domain tests: photos made with Pillow, street A with three categories,
two departments with a handler each, and a report at any stage of the workflow.

Places in ``tests.world``: A1 west grid (40.095, 113.305), A1 east (40.095, 113.315), A2
(40.095, 113.33), street B's B1 (40.085, 113.31).
"""

from __future__ import annotations

import io
import itertools
import random
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.world import World
from yizhan.core.models import AuditEntry
from yizhan.core.roles import Role
from yizhan.notifications.models import Notification
from yizhan.people.models import Department, User
from yizhan.people.services import account_create, department_create
from yizhan.reports import services as rs
from yizhan.reports.models import Category, Report, ReportEvent, ReportPhoto, Witness

A1_WEST = (40.095, 113.305)
A1_EAST = (40.095, 113.315)
A2 = (40.095, 113.33)
B1 = (40.085, 113.31)

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
_keys = itertools.count(1)


# --- photos --------------------------------------------------------------------------------------


def picture(seed: int, size: tuple[int, int] = (240, 180)) -> Image.Image:
    """A smooth random picture (12×9 random colours, enlarged): each seed a different dHash,
    stable under re-encoding and resizing."""
    rnd = random.Random(seed)
    small = Image.new("RGB", (12, 9))
    small.putdata([tuple(rnd.randrange(256) for _ in range(3)) for _ in range(12 * 9)])
    return small.resize(size, Image.Resampling.BILINEAR)


def exif(
    *, taken: datetime | None = None, lat: float | None = None, lng: float | None = None
) -> Image.Exif:
    """EXIF as a phone writes it: capture time with its offset, GPS in degrees/minutes/seconds."""
    data = Image.Exif()
    data[0x010F] = "PhoneMaker"
    if taken is not None:
        offset = taken.strftime("%z")
        data[EXIF_IFD] = {
            0x9003: taken.strftime("%Y:%m:%d %H:%M:%S"),
            0x9011: f"{offset[:3]}:{offset[3:]}",
        }
    if lat is not None and lng is not None:

        def dms(value: float) -> tuple[float, float, float]:
            value = abs(value)
            degrees = int(value)
            minutes = int((value - degrees) * 60)
            seconds = round((value - degrees - minutes / 60) * 3600, 4)
            return (float(degrees), float(minutes), seconds)

        data[GPS_IFD] = {
            1: "N" if lat >= 0 else "S",
            2: dms(lat),
            3: "E" if lng >= 0 else "W",
            4: dms(lng),
        }
    return data


def encode(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def jpeg(
    seed: int = 0,
    *,
    image: Image.Image | None = None,
    exif_data: Image.Exif | None = None,
    name: str = "photo.jpg",
) -> SimpleUploadedFile:
    picture_ = image if image is not None else picture(seed)
    params = {"quality": 90}
    if exif_data is not None:
        params["exif"] = exif_data
    return SimpleUploadedFile(name, encode(picture_, **params), content_type="image/jpeg")


def upload(data: bytes, name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def media_files(root) -> list[str]:
    """Every file under ``root`` (MEDIA_ROOT: the blurred copies) and under its private twin
    (``reports.storage``: the originals), the latter prefixed ``private:``."""
    found = []
    for folder, prefix in ((Path(root), ""), (Path(f"{root}-private"), "private:")):
        found += [f"{prefix}{p.relative_to(folder)}" for p in folder.rglob("*") if p.is_file()]
    return sorted(found)


# --- the street ----------------------------------------------------------------------------------


@dataclass
class Given:
    world: World
    media: Path
    wire: Category  # 飞线充电: 1 working day, 5 points, the city department by default
    clutter: Category  # 楼道堆物: 2 working days, 3 points, no default department
    lost: Category  # 一老一小: urgent, 1 hour around the clock, 5 minutes to acknowledge, 10 points
    elsewhere: Category  # a category of street B
    city: Department  # 城管执法队, street A
    sanitation: Department  # 环卫所, community A1
    handler: User  # of the city department
    other_handler: User  # of the sanitation department

    @property
    def staff(self) -> User:
        return self.world.community_staff

    @property
    def rider(self) -> User:
        return self.world.rider.user

    @property
    def other_rider(self) -> User:
        return self.world.other_rider.user


def build_given(world: World, media: Path) -> Given:
    admin = world.street_admin
    city = department_create(name="城管执法队", area=world.street_a, actor=admin)
    sanitation = department_create(name="环卫所", area=world.community_a1, actor=admin)
    wire = rs.category_create(
        street=world.street_a, code="flying_wire", name="飞线充电", family="housing_safety",
        department=city, deadline_amount=1, deadline_unit="working_days", points=5, actor=admin,
    )  # fmt: skip
    clutter = rs.category_create(
        street=world.street_a, code="stairwell_clutter", name="楼道堆物",
        family="housing_safety", deadline_amount=2, deadline_unit="working_days", points=3,
        actor=admin,
    )  # fmt: skip
    lost = rs.category_create(
        street=world.street_a, code="elderly_child", name="一老一小走失求助", family="care",
        deadline_amount=1, deadline_unit="hours", urgent=True, ack_minutes=5, points=10,
        actor=admin,
    )  # fmt: skip
    elsewhere = rs.category_create(
        street=world.street_b, code="flying_wire", name="飞线充电", family="housing_safety",
        points=5, actor=world.district_admin,
    )  # fmt: skip
    handler = account_create(
        username="handler_city", name="城管小李", role=Role.HANDLER, area=world.street_a,
        department=city, password="x-Yizhan-2026",
    )  # fmt: skip
    other_handler = account_create(
        username="handler_san", name="环卫老张", role=Role.HANDLER, area=world.street_a,
        department=sanitation, password="x-Yizhan-2026",
    )  # fmt: skip
    return Given(
        world=world, media=media, wire=wire, clutter=clutter, lost=lost, elsewhere=elsewhere,
        city=city, sanitation=sanitation, handler=handler, other_handler=other_handler,
    )  # fmt: skip


def make_given(world: World, settings, tmp_path: Path) -> Given:
    """For each test module's ``g`` fixture: photos go to the test's own MEDIA_ROOT."""
    settings.MEDIA_ROOT = str(tmp_path)
    return build_given(world, tmp_path)


def key() -> str:
    return f"test-key-{next(_keys):06d}"


def submit(
    g: Given,
    *,
    reporter: User | None = None,
    category: Category | None = None,
    at: tuple[float, float] = A1_WEST,
    photos: list | None = None,
    seed: int | None = None,
    description: str = "三楼窗户拉线给电动车充电",
    idempotency_key: str | None = None,
    **extra,
) -> Report:
    """A report of ``g.wire`` by the rider in the A1 west grid, with one fresh photo."""
    if photos is None:
        photos = [jpeg(next(_keys) if seed is None else seed)]
    return rs.report_submit(
        reporter=reporter or g.rider,
        category=category or g.wire,
        lat=at[0],
        lng=at[1],
        description=description,
        photos=photos,
        idempotency_key=idempotency_key or key(),
        **extra,
    )


def advance(g: Given, report: Report, to: str) -> Report:
    """Move ``report`` along the usual path (accept → dispatch → handle → verify → close)."""
    path = ["accepted", "dispatched", "handled", "verified", "closed"]
    steps = {
        "accepted": lambda r: rs.report_accept(report=r, actor=g.staff),
        "dispatched": lambda r: rs.report_dispatch(report=r, actor=g.staff, department=g.city),
        "handled": lambda r: rs.report_handle(
            report=r, actor=g.handler, note="已拆除飞线", photos=[jpeg(next(_keys))]
        ),
        "verified": lambda r: rs.report_verify(report=r, actor=g.staff, passed=True),
        "closed": lambda r: rs.report_close(report=r, actor=g.staff),
    }
    for status in path[path.index(report.status) + 1 if report.status in path else 0 :]:
        report = steps[status](report)
        if status == to:
            break
    assert report.status == to
    return report


def state(report: Report, media: Path | None = None) -> dict:
    """Everything a refused action must leave as it was."""
    return {
        "row": Report.objects.filter(pk=report.pk).values().get(),
        "events": list(ReportEvent.objects.filter(report=report).values_list("id", flat=True)),
        "photos": ReportPhoto.objects.count(),
        "witnesses": list(Witness.objects.values_list("report_id", "user_id", "points_status")),
        "notifications": Notification.objects.count(),
        "audit": AuditEntry.objects.count(),
        "files": media_files(media) if media is not None else None,
    }
