"""``manage.py demo`` refuses outside demo mode, and a failed load writes nothing."""

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from yizhan.areas.models import Area
from yizhan.areas.services import area_create
from yizhan.core.models import AuditEntry
from yizhan.demo import loader
from yizhan.demo.loader import DemoModeOff, load_demo
from yizhan.people.models import User


def nothing_written() -> bool:
    return not (Area.objects.exists() or User.objects.exists() or AuditEntry.objects.exists())


@override_settings(DEMO_MODE=False)
def test_the_command_refuses_outside_demo_mode(db):
    with pytest.raises(CommandError, match="YIZHAN_DEMO=1"):
        call_command("demo")
    with pytest.raises(DemoModeOff):
        load_demo()
    assert nothing_written()


@override_settings(DEMO_MODE=True)
def test_an_interrupted_load_leaves_nothing(db, monkeypatch):
    def interrupted(ctx):
        raise KeyboardInterrupt

    monkeypatch.setattr(
        loader,
        "STEPS",
        [loader.load_district, loader.load_areas, loader.load_accounts, interrupted],
    )
    with pytest.raises(KeyboardInterrupt):
        call_command("demo")
    assert nothing_written()


@override_settings(DEMO_MODE=True)
def test_a_service_refusal_is_a_command_error_and_leaves_nothing(db, monkeypatch):
    def refused(ctx):
        area_create(level="district", code=ctx.areas["140213"].code, name="again")

    monkeypatch.setattr(loader, "STEPS", [loader.load_district, refused])
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("demo")
    assert nothing_written()


@override_settings(DEMO_MODE=True)
def test_other_data_under_the_demo_district_is_not_overwritten(db):
    area_create(level="district", code="140213", name="平城区")
    with pytest.raises(CommandError, match="fresh database"):
        call_command("demo")
    assert list(Area.objects.values_list("code", flat=True)) == ["140213"]
    assert not User.objects.exists()
