"""Give existing stations their map cell, and seed the service catalogue."""

import math

from django.db import migrations

CATALOGUE = [
    ("rest", "休息", "Rest"),
    ("water", "饮水", "Drinking water"),
    ("meal_heating", "热饭", "Meal heating"),
    ("phone_charging", "手机充电", "Phone charging"),
    ("ebike_charging", "电动车充电换电", "E-bike charging / battery swap"),
    ("tyre_inflation", "打气", "Tyre inflation"),
    ("toilet", "如厕", "Toilet"),
    ("wifi", "无线网络", "Wi-Fi"),
    ("first_aid", "急救药箱", "First-aid kit"),
    ("books", "图书阅读", "Books"),
    ("meeting_room", "会议室", "Meeting room"),
    ("rain_gear", "雨具", "Rain gear"),
    ("repairs", "维修工具", "Repair tools"),
    ("cooling_warmth", "纳凉取暖", "Cool off / warm up"),
    ("meals", "爱心餐", "Caring meals"),
    ("legal_aid", "法律咨询", "Legal advice"),
]


def _index(value, offset, count):
    quotient = (value + offset) / 0.01
    nearest = round(quotient)
    if abs(quotient - nearest) < 1e-9:
        quotient = nearest
    return min(max(math.floor(quotient), 0), count - 1)


def cell_of(lat, lng):
    # core.geo.cell_of as of this migration (0.01° cells, row-major).
    return _index(lat, 90.0, 18000) * 100_000 + _index(lng, 180.0, 36000)


def forwards(apps, schema_editor):
    Station = apps.get_model("stations", "Station")
    for station in Station.objects.all():
        station.cell = cell_of(station.lat, station.lng)
        station.save(update_fields=["cell"])
    ServiceItem = apps.get_model("stations", "ServiceItem")
    for bit, (code, name, name_en) in enumerate(CATALOGUE):
        ServiceItem.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "bit": bit, "sort_order": bit}
        )


class Migration(migrations.Migration):
    dependencies = [("stations", "0002_registry")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
